"""SiteGate's shared layer: policy, data layer, models and the HTTP glue every function uses."""
