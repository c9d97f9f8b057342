// placeholder until the monitor lands
