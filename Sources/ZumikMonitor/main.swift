print("zumik-monitor: not built yet")
