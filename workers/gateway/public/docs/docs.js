// Starts Swagger UI on GET /docs (workers/gateway/src/openapi/serve.ts) with this gateway's
// /openapi.json. A file of its own, not an inline script, so the page's Content-Security-Policy
// allows same-origin scripts only. No validator badge: it would call validator.swagger.io.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  displayRequestDuration: true,
  persistAuthorization: false,
});
