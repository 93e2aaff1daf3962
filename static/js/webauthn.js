/* Security keys (WebAuthn) for the sign-in and Security pages. No framework.
 *
 * Elements with data-webauthn="register" (a form with a name field) or
 * data-webauthn="authenticate" fetch options from data-options-url, call the
 * browser, and post the answer to data-verify-url; the server answers with
 * {"redirect": url} or {"error": message}.
 */
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    var bin = atob(b64 + "===".slice((b64.length + 3) % 4));
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
  }

  function creationOptions(o) {
    return Object.assign({}, o, {
      challenge: toBytes(o.challenge),
      user: Object.assign({}, o.user, { id: toBytes(o.user.id) }),
      excludeCredentials: withIds(o.excludeCredentials),
    });
  }

  function requestOptions(o) {
    return Object.assign({}, o, { challenge: toBytes(o.challenge), allowCredentials: withIds(o.allowCredentials) });
  }

  function credentialJSON(cred) {
    var r = cred.response, response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    }
    return {
      id: cred.id, rawId: toB64url(cred.rawId), type: cred.type, response: response,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
    };
  }

  function explain(err) {
    switch (err && err.name) {
      case "NotAllowedError": return "The security key request was cancelled or timed out. Try again.";
      case "AbortError": return "The security key request was cancelled.";
      case "InvalidStateError": return "This security key is already registered to your account.";
      case "NotSupportedError": return "This browser or key does not support the requested kind of security key.";
      case "SecurityError": return "Security keys cannot be used on this address (check the site's origin).";
      default: return (err && err.message) || "Something went wrong with the security key.";
    }
  }

  function post(url, body, csrf) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "X-Return-To": location.pathname },
      body: JSON.stringify(body || {}),
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (resp.ok) return data;
        if (data.redirect && data.redirect !== location.pathname) { location.assign(data.redirect); }
        throw new Error(data.error || "The server refused the request (" + resp.status + ").");
      });
    });
  }

  // Keys are bound to the server's WEBAUTHN_ORIGIN: on another address (127.0.0.1 for
  // localhost) the browser would refuse them, so name the address to open instead.
  function elsewhere(status) {
    var meta = document.querySelector('meta[name="webauthn-origin"]');
    var origin = meta && meta.content.replace(/\/+$/, "");
    if (!origin || origin === location.origin) return false;
    var link = document.createElement("a");
    link.href = origin + location.pathname;
    link.textContent = origin;
    status.textContent = "Security keys work only at ";
    status.append(link, ". Open the portal there to use your key.");
    status.hidden = false;
    return true;
  }

  function setup(el) {
    var kind = el.dataset.webauthn;
    var start = el.querySelector("[data-webauthn-start]");
    var status = el.querySelector("[data-webauthn-status]");
    var csrf = el.querySelector("input[name=csrfmiddlewaretoken]").value;

    function show(message) { status.textContent = message; status.hidden = !message; }

    if (!window.PublicKeyCredential || !navigator.credentials) {
      show("This browser does not support security keys.");
      return;
    }
    if (elsewhere(status)) return;
    start.disabled = false;
    if (start.hasAttribute("autofocus")) start.focus(); // the primary action (a disabled one cannot take it)

    function run(event) {
      event.preventDefault();
      var nameInput = el.querySelector("input[name=name]");
      var name = nameInput ? nameInput.value.trim() : "";
      if (kind === "register" && !name) { show("Give the key a name first."); nameInput.focus(); return; }
      show("");
      start.disabled = true;
      post(el.dataset.optionsUrl, {}, csrf)
        .then(function (options) {
          return kind === "register"
            ? navigator.credentials.create({ publicKey: creationOptions(options) })
            : navigator.credentials.get({ publicKey: requestOptions(options) });
        })
        .then(function (cred) {
          if (!cred) throw new Error("No security key answered.");
          return post(el.dataset.verifyUrl, { name: name, credential: credentialJSON(cred) }, csrf);
        })
        .then(function (result) { location.assign(result.redirect); })
        .catch(function (err) { show(explain(err)); start.disabled = false; });
    }

    if (el.tagName === "FORM") el.addEventListener("submit", run);
    else start.addEventListener("click", run);
  }

  // Shared with passkey.js (the sign-in page's passwordless ceremony).
  window.PortalWebAuthn = { requestOptions: requestOptions, credentialJSON: credentialJSON, post: post, explain: explain, elsewhere: elsewhere };

  document.querySelectorAll("[data-webauthn]").forEach(setup);
})();
