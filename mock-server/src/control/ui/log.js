// The live request log: an EventSource on the tenant's log events. The server
// answers the entries after Last-Event-ID and ends the response; EventSource
// reconnects after the `retry` the server sends, so the view stays live.
// Every value goes in as text (textContent), never as markup.
(function () {
  "use strict";
  var table = document.getElementById("log");
  var body = table.querySelector("tbody");
  var form = document.getElementById("filters");
  function text(v) { return v === null || v === undefined ? "" : String(v); }
  function matches(e) {
    var client = form.elements.client.value.trim().toLowerCase();
    var status = form.elements.status.value.trim();
    var path = form.elements.path.value.trim().toLowerCase();
    var who = (text(e.client_id) + " " + text(e.client_name)).toLowerCase();
    if (client && who.indexOf(client) < 0) return false;
    if (status && String(e.status).indexOf(status) !== 0) return false;
    if (path && e.path.toLowerCase().indexOf(path) < 0) return false;
    return true;
  }
  function add(e) {
    var tr = document.createElement("tr");
    if (e.forbidden) tr.className = "forbidden";
    else if (e.would_be_forbidden) tr.className = "would-be";
    var authz = e.authz || {};
    var permission = authz.permission ? (authz.allowed ? "used " : "lacked ") + authz.permission : "";
    var user = e.user ? text(e.user.userPrincipalName || e.user.id) : "";
    [e.time, e.api, e.method, e.path, e.status, text(e.client_name || e.client_id), user, authz.operation, permission]
      .forEach(function (v) {
        var td = document.createElement("td");
        td.textContent = text(v);
        tr.appendChild(td);
      });
    tr.dataset.entry = JSON.stringify(e);
    tr.hidden = !matches(e);
    body.insertBefore(tr, body.firstChild);
  }
  form.addEventListener("input", function () {
    Array.prototype.forEach.call(body.rows, function (tr) { tr.hidden = !matches(JSON.parse(tr.dataset.entry)); });
  });
  var events = new EventSource(table.dataset.events);
  events.addEventListener("request", function (m) { add(JSON.parse(m.data)); });
})();
