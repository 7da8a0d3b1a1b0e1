"""The embedded local stack (``press-intake local``): moto's server, the HTTP gateway, event
sources and the one-time scheduler, all created from ``template.yaml``."""
