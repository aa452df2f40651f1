"""The example and study programs (C), shipped inside the `iss` package as
`iss.apps` so `iss bench` and `iss sweep` can build them when installed."""
