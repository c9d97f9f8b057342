print("zumik-ops-agent: not built yet")
