// Test harness only: stands in for VS Code's acquireVsCodeApi (records posted messages,
// keeps setState in sessionStorage so a reload can getState) and records CSP violations.
(function () {
  window.__posted = [];
  window.__violations = [];
  window.__stateWrites = 0;
  document.addEventListener('securitypolicyviolation', function (e) {
    window.__violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
  });
  var acquired = false;
  window.acquireVsCodeApi = function () {
    if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
    acquired = true;
    return Object.freeze({
      postMessage: function (m) {
        window.__posted.push(JSON.parse(JSON.stringify(m)));
      },
      getState: function () {
        var s = sessionStorage.getItem('routelens-state');
        return s ? JSON.parse(s) : undefined;
      },
      setState: function (s) {
        window.__stateWrites++;
        sessionStorage.setItem('routelens-state', JSON.stringify(s));
        return s;
      },
    });
  };
})();
