"""OpenFrame Stream: MSP tool CDC and agent events into one enriched, multi-tenant event stream."""

__version__ = "0.1.0"
