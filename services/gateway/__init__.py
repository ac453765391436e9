"""The web channel: HTTP/JSON over the gRPC services, the citizen pages and the clerk console."""
