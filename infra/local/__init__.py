"""The embedded local stack (``press-intake local``): moto's server, the HTTP server of
``infra.apigateway``, event sources and the one-time scheduler, all created from ``template.yaml``."""
