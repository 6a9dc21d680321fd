// How the jobs page writes times and durations. A file of its own, loaded before jobs-page.js,
// so that node can load it too and the unit tests check the formats without a browser; the
// page stays free of any build step.
'use strict';

((exportTo) => {
  const pad = (n) => String(n).padStart(2, '0');

  /**
   * A duration with the precision that means something at its size: milliseconds below a
   * second, tenths below ten seconds, then seconds, minutes, hours, days.
   */
  function formatDuration(ms) {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '—';
    if (ms < 999.5) return `${Math.round(ms)} ms`;
    const tenths = Math.round(ms / 100);
    if (tenths < 100) return `${(tenths / 10).toFixed(1)} s`;
    const s = Math.round(ms / 1000);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
    const min = Math.floor(s / 60);
    if (min < 24 * 60) return `${Math.floor(min / 60)} h ${pad(min % 60)} min`;
    return `${Math.floor(min / 1440)} d ${pad(Math.floor((min % 1440) / 60))} h`;
  }

  /** Date and time in the browser's time zone, as 2026-12-08 14:03:21: sortable, and the same in every locale. */
  function formatTimestamp(date) {
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) return '—';
    const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
    return `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  }

  exportTo({ formatDuration, formatTimestamp });
})((api) => {
  if (typeof module === 'object' && module.exports) module.exports = api;
  else globalThis.jobsPageFormat = api;
});
