// The dialer console's only script: refreshes the figures of the page every 2 s from its live URL (the server
// renders the HTML fragments, escaped; a fragment is replaced only when it changed, keeping the keyboard focus), and
// asks before a form marked data-confirm is sent.
(function () {
  'use strict';
  var live = document.body.getAttribute('data-live');
  var last = {};
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
            var html = data.html[id];
            if (!el || last[id] === html) {
              return; // unchanged: the element (and the keyboard focus in it) stays as it is
            }
            last[id] = html;
            // Keep what the reader had: the focused link or control, and an opened <details>.
            var focused = document.activeElement;
            var focusKey = null;
            if (focused && focused !== el && el.contains(focused)) {
              if (focused.id) {
                focusKey = '#' + CSS.escape(focused.id);
              } else if (focused.getAttribute('href')) {
                focusKey = 'a[href="' + CSS.escape(focused.getAttribute('href')) + '"]';
              }
            }
            var opened = el.querySelector('details[open]') !== null;
            el.innerHTML = html;
            if (opened) {
              var details = el.querySelector('details');
              if (details) {
                details.open = true;
              }
            }
            if (focusKey) {
              var again = el.querySelector(focusKey);
              if (again) {
                again.focus();
              }
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
