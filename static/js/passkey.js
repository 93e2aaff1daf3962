/* "Sign in with a passkey" on the sign-in page (needs webauthn.js first). No framework.
 *
 * The [data-passkey-signin] box is shown once the browser has WebAuthn. Where the browser
 * offers passkeys in the name field's autofill (conditional mediation, autocomplete="username
 * webauthn"), that quiet request starts on load; the button asks with the browser's own prompt
 * (security keys, other devices) and first cancels the quiet request, whose challenge the new
 * one replaces. The server answers {"redirect": url} or {"error": message}.
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-passkey-signin]");
  var lib = window.PortalWebAuthn;
  if (!box || !lib || !window.PublicKeyCredential || !navigator.credentials) return;

  var button = box.querySelector("[data-passkey-start]");
  var status = box.querySelector("[data-passkey-status]");
  var csrf = box.querySelector("input[name=csrfmiddlewaretoken]").value;
  var quiet = null; // the AbortController of the autofill request, while it waits
  if (lib.elsewhere(status)) { status.className = "msg msg-error"; button.disabled = true; box.hidden = false; return; }

  // The message box is styled only while it shows something (the page's other error is the form's).
  function show(message) {
    status.textContent = message;
    status.hidden = !message;
    status.className = message ? "msg msg-error" : "";
  }

  function signIn(mediation) {
    var controller = new AbortController();
    return lib.post(box.dataset.optionsUrl, {}, csrf)
      .then(function (options) {
        var request = { publicKey: lib.requestOptions(options), signal: controller.signal };
        if (mediation) request.mediation = mediation;
        if (mediation === "conditional") quiet = controller;
        return navigator.credentials.get(request);
      })
      .then(function (cred) {
        if (!cred) throw new Error("No passkey answered.");
        return lib.post(box.dataset.verifyUrl, { credential: lib.credentialJSON(cred) }, csrf);
      })
      .then(function (result) { location.assign(result.redirect); });
  }

  function startQuiet() {
    signIn("conditional").catch(function (err) {
      if (err && err.name === "AbortError") return; // the button took over
      show(lib.explain(err));
    });
  }

  button.addEventListener("click", function () {
    if (quiet) { quiet.abort(); quiet = null; }
    show("");
    button.disabled = true;
    signIn("").catch(function (err) {
      show(lib.explain(err));
      button.disabled = false;
    });
  });

  box.hidden = false;
  if (PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (available) startQuiet();
    }).catch(function () {});
  }
})();
