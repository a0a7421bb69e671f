"""Built-in device profiles for `archcalc latency` (YAML data, one file per device)."""
