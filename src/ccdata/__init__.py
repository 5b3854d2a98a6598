"""ccdata: an open call-data service for contact centers, wire-compatible with Huawei CEC call-data interfaces."""

__version__ = "0.1.0"
