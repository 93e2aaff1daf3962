// The recovery-codes page (no inline script: CSP). The .txt is made here from the codes on the
// page: the server keeps only their hashes. "I have saved them" waits until the codes were copied
// (copy.js), downloaded or printed; without JavaScript it never waits.
(function () {
  var sheet = document.querySelector("[data-recovery-codes]");
  if (!sheet) return;
  var done = sheet.querySelector("[data-saved]");
  var status = sheet.querySelector("[data-save-status]");
  var codes = Array.prototype.map.call(sheet.querySelectorAll("[data-code]"), function (el) {
    return el.textContent.trim();
  });

  function saved(how) {
    done.disabled = false;
    status.textContent = how;
  }

  sheet.querySelector("[data-save-actions]").hidden = false;
  done.disabled = true;
  status.textContent = "Copy, download or print them first.";

  sheet.addEventListener("copied", function () { saved("Copied. Paste them into your password manager."); });

  sheet.querySelector("[data-download]").addEventListener("click", function () {
    var text = [sheet.dataset.title, "", codes.join("\n"), "", sheet.dataset.note, ""].join("\n");
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    link.download = sheet.dataset.filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
    saved("Downloaded " + sheet.dataset.filename + ". Keep it somewhere safe.");
  });

  sheet.querySelector("[data-print]").addEventListener("click", function () {
    window.print();
    saved("Printed. Keep the page somewhere safe.");
  });
})();
