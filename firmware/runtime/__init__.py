"""The firmware runtime's sources (C, assembly, linker script, headers), shipped
inside the `iss` package as `iss.runtime` so `iss cc` finds them when installed."""
