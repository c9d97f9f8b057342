print("zumik-actions: not built yet")
