// Starts Swagger UI on /openapi.json; nothing is fetched from anywhere but this server.
(function () {
  "use strict";
  if (typeof window.SwaggerUIBundle !== "function") {
    document.getElementById("docs-missing").hidden = false;
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // No validator badge: it would send the document to a public service.
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
