"""The int8 kernels (C), shipped inside the `iss` package as `iss.kernels` so
the studies can build them when installed."""
