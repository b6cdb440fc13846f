// Starts Swagger UI (served from the installed swagger-ui-bundle package) on our schema.
window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // The validator badge would call a third-party service.
  validatorUrl: null,
});
