// Starts Swagger UI on /docs. A file of its own, not an inline script, so the page's
// Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    // BaseLayout: no top bar (its spec-URL box would invite loading other documents).
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // No badge from the public validator: the page talks to this service only.
    validatorUrl: null,
    // A token pasted into "Authorize" is forgotten when the page reloads.
    persistAuthorization: false,
    displayRequestDuration: true,
    tryItOutEnabled: false
  });
})();
