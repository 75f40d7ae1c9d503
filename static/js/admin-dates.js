"use strict";
// A date has no time of day, so the server's time zone cannot change what it means: Django's
// admin notes "Enter times in the America/New_York timezone" under every date input when the
// browser's zone differs, which is noise under a hearing date. Keep the note for time inputs
// (and split date-and-time fields) only. Deferred: runs after DateTimeShortcuts.js has loaded
// and before its window "load" handler adds the notes.
{
    const shortcuts = window.DateTimeShortcuts;
    if (shortcuts) {
        const addTimezoneWarning = shortcuts.addTimezoneWarning;
        shortcuts.addTimezoneWarning = function (input) {
            const dateOnly =
                input.classList.contains("vDateField") && !input.closest(".datetime");
            if (!dateOnly) {
                addTimezoneWarning.call(this, input);
            }
        };
    }
}
