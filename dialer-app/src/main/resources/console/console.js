// The dialer console's only script: refreshes the figures of the page every 2 s from its live URL (the server
// renders the HTML fragments, escaped), and asks before a form marked data-confirm is sent.
(function () {
  'use strict';
  var live = document.body.getAttribute('data-live');
  if (live) {
    var refresh = function () {
      fetch(live, { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
        .then(function (r) {
          if (r.status === 401) {
            window.location.reload(); // the session ended: the server sends the login page
            return null;
          }
          return r.ok ? r.json() : null;
        })
        .then(function (data) {
          if (!data) {
            return;
          }
          Object.keys(data.html).forEach(function (id) {
            var el = document.getElementById(id);
            if (el && el.innerHTML !== data.html[id]) {
              el.innerHTML = data.html[id];
            }
          });
          var stamp = document.getElementById('updated');
          if (stamp) {
            stamp.textContent = data.updated;
          }
        })
        .catch(function () { /* the next round tries again */ })
        .then(function () { window.setTimeout(refresh, 2000); });
    };
    window.setTimeout(refresh, 2000);
  }
  Array.prototype.forEach.call(document.querySelectorAll('form[data-confirm]'), function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) {
        event.preventDefault();
      }
    });
  });
})();
