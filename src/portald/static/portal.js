// SPDX-License-Identifier: LGPL-2.1-or-later
// vdesk portal: enhancements only; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
        // An open's page follows the desktop's boot through server-sent
        // events and shows the result the moment it is there.
        var events = document.body.dataset.events;
        if (events && window.EventSource) {
                var source = new EventSource(events);
                var done = function () { source.close(); window.location.reload(); };
                source.addEventListener("ready", done);
                source.addEventListener("failed", done);
                source.addEventListener("gone", done);
        }
        // Restart loses what was not saved: ask first.
        document.querySelectorAll("form[data-confirm]").forEach(function (form) {
                form.addEventListener("submit", function (e) {
                        if (!window.confirm(form.dataset.confirm))
                                e.preventDefault();
                });
        });
        // A copy button for the FreeRDP command line.
        document.querySelectorAll("button[data-copy]").forEach(function (b) {
                var target = document.getElementById(b.dataset.copy);
                if (!target || !navigator.clipboard)
                        return;
                b.hidden = false;
                b.addEventListener("click", function () { navigator.clipboard.writeText(target.textContent); });
        });
});
