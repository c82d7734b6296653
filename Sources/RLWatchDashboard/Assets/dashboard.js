// rlwatch dashboard: draws the charts from the page's data block and applies live updates.
// Data is only ever put into the page with textContent / setAttribute, never as markup.
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var W = 600, H = 240, M = { l: 58, r: 14, t: 14, b: 26 };
  var TARGET = 500;

  function svg(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function html(name, attrs, text) {
    var e = document.createElement(name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function num(v) {
    if (v === null || v === undefined) return null;
    if (typeof v === 'number') return v;
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    return Number(v);
  }
  // A value with 4 significant digits, as `rlwatch diagnose` prints it: fixed-point from 1e-3 to 1e5, else
  // scientific (2.700e+7).
  function fmt(v) {
    if (!isFinite(v)) return isNaN(v) ? 'NaN' : (v > 0 ? 'Inf' : '-Inf');
    if (v === 0) return '0';
    var e = Math.floor(Math.log10(Math.abs(v)));
    if (Math.abs(+v.toPrecision(4)) >= Math.pow(10, e + 1)) e++;
    if (e >= -3 && e < 5) return v.toFixed(Math.max(0, 3 - e));
    return v.toExponential(3);
  }
  // The labels of one axis: all with the same number of significant digits, as many as the tick step needs
  // (0.00 0.05 0.10, or 5.0e+6 1.0e+7 1.5e+7), so a column of ticks reads at one precision.
  function tickLabels(ts) {
    if (ts.length < 2) return ts.map(fmt);
    var step = Math.abs(ts[1] - ts[0]), top = 0;
    ts.forEach(function (t) { top = Math.max(top, Math.abs(t)); });
    var se = Math.floor(Math.log10(step) + 1e-9);
    if (top !== 0 && (top >= 1e5 || top < 1e-3)) {
      var te = Math.floor(Math.log10(top) + 1e-9);
      return ts.map(function (t) { return t === 0 ? '0' : t.toExponential(Math.max(1, te - se)); });
    }
    return ts.map(function (t) { return t.toFixed(Math.max(0, -se)); });
  }
  // Ticks of a log axis (values are log10): the powers of ten in range, with 2× and 5× when there are few.
  function logTicks(lo, hi) {
    var out = [], a = Math.floor(lo), b = Math.ceil(hi), k;
    for (k = a; k <= b; k++) if (k >= lo - 1e-9 && k <= hi + 1e-9) out.push(k);
    if (out.length < 3) {
      out = [];
      for (k = a; k <= b; k++) [1, 2, 5].forEach(function (m) {
        var t = k + Math.log10(m);
        if (t >= lo - 1e-9 && t <= hi + 1e-9) out.push(t);
      });
    }
    var step = Math.ceil(out.length / 8);
    return out.filter(function (_, i) { return i % step === 0; });
  }
  function ticks(lo, hi, n) {
    var span = hi - lo;
    if (!(span > 0)) return [lo];
    var step = Math.pow(10, Math.floor(Math.log10(span / n)));
    var err = span / n / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
    return out;
  }
  function setText(id, text) { var e = document.getElementById(id); if (e) e.textContent = text; }

  var block = document.getElementById('rlw-data');
  var D = block ? JSON.parse(block.textContent) : null;

  // ---- runs list: filter by text -------------------------------------------------------------
  var runFilter = document.getElementById('run-filter');
  if (runFilter) {
    var applyRunFilter = function () {
      var q = runFilter.value.trim().toLowerCase();
      document.querySelectorAll('#runs-table tbody tr').forEach(function (tr) {
        tr.hidden = q !== '' && (tr.getAttribute('data-search') || '').indexOf(q) < 0;
      });
    };
    runFilter.addEventListener('input', applyRunFilter);
    applyRunFilter();
  }

  // ---- alert history filters -----------------------------------------------------------------
  var filters = document.getElementById('alert-filters');
  function alertMatches(tr) {
    if (!filters) return true;
    var f = filters.elements;
    var det = f.detector ? f.detector.value : '', sev = f.severity ? f.severity.value : '';
    var from = f.from && f.from.value !== '' ? Number(f.from.value) : -Infinity;
    var to = f.to && f.to.value !== '' ? Number(f.to.value) : Infinity;
    var step = Number(tr.getAttribute('data-step'));
    return (det === '' || tr.getAttribute('data-detector') === det) &&
      (sev === '' || tr.getAttribute('data-severity') === sev) && step >= from && step <= to;
  }
  function applyAlertFilters() {
    var shown = 0;
    document.querySelectorAll('#alerts-table tbody tr').forEach(function (tr) {
      tr.hidden = !alertMatches(tr);
      if (!tr.hidden) shown++;
    });
    setText('alerts-shown', shown + ' shown');
  }
  if (filters) {
    filters.addEventListener('input', applyAlertFilters);
    filters.addEventListener('change', applyAlertFilters);
    filters.addEventListener('submit', function (e) {
      e.preventDefault();
      applyAlertFilters();
      var params = new URLSearchParams(new FormData(filters));
      history.replaceState(null, '', location.pathname + '?' + params.toString());
    });
  }

  if (!D) return;

  // ---- data ------------------------------------------------------------------------------------
  var charts = {};
  var logScale = {};
  D.charts.forEach(function (c) {
    c.series.forEach(function (s) {
      s.v = s.v.map(num);
      if (s.sd) s.sd = s.sd.map(num);
    });
    charts[c.id] = c;
  });
  var alerts = D.alerts;

  function xDomain() {
    var lo = Infinity, hi = -Infinity;
    D.charts.forEach(function (c) {
      c.series.forEach(function (s) {
        if (s.s.length) { lo = Math.min(lo, s.s[0]); hi = Math.max(hi, s.s[s.s.length - 1]); }
      });
    });
    alerts.forEach(function (a) { lo = Math.min(lo, a.step); hi = Math.max(hi, a.step); });
    if (lo === Infinity) { lo = 0; hi = 1; }
    if (hi === lo) hi = lo + 1;
    return [lo, hi];
  }

  function valueAt(series, step) {
    var s = series.s, a = 0, b = s.length - 1;
    while (a <= b) {
      var m = (a + b) >> 1;
      if (s[m] === step) return series.v[m];
      if (s[m] < step) a = m + 1; else b = m - 1;
    }
    return null;
  }

  // The chart that marks an alert: its detector's chart, or the fallback chart for a run that never logged that
  // chart's value (learning_signal_dead on reward std for a run without frac_reward_zero_std).
  function chartOf(a) {
    var c = charts[a.chart];
    if (!c || !c.fallback) return a.chart;
    var s = c.series.filter(function (x) { return x.run === a.run; })[0];
    return s && s.v.some(function (v) { return v !== null; }) ? a.chart : c.fallback;
  }

  function alertLabel(a) {
    var run = D.runs.length > 1 ? D.runs[a.run].id + ' \u2014 ' : '';
    return run + 'step ' + a.step + ' \u00b7 ' + a.detector + ' (' + a.severity + ')\n' + a.message;
  }

  function drawChart(c, xd) {
    var fig = document.getElementById('chart-' + c.id);
    if (!fig) return;
    var plot = fig.querySelector('.plot');
    plot.textContent = '';
    var lo = Infinity, hi = -Infinity, any = false;
    // On a log axis values are drawn as log10; a value <= 0 has no place on it and is left out (and counted).
    var log = !!logScale[c.id], hidden = 0;
    var T = function (v) { return v === null || !log ? v : (v > 0 ? Math.log10(v) : (isFinite(v) ? null : v)); };
    function see(v) { if (v !== null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
    c.series.forEach(function (s) {
      if (s.s.length) any = true;
      for (var i = 0; i < s.v.length; i++) {
        var tv = T(s.v[i]);
        if (tv === null && s.v[i] !== null) hidden++;
        see(tv);
        if (!log && s.sd && s.sd[i] !== null && isFinite(s.sd[i]) && s.v[i] !== null) { see(s.v[i] - s.sd[i]); see(s.v[i] + s.sd[i]); }
      }
    });
    if (!any) {
      plot.appendChild(html('div', { class: 'empty' }, 'No data'));
      return;
    }
    if (c.threshold) see(T(c.threshold.value));
    if (lo === Infinity) { lo = 0; hi = 1; }
    if (hi === lo) { var d = log ? 0.5 : (Math.abs(lo) * 0.1 || 1); lo -= d; hi += d; }
    var pad = (hi - lo) * 0.06; lo -= pad; hi += pad;
    var note = fig.querySelector('label.scale');
    if (note) note.setAttribute('title', log && hidden ? hidden + ' values <= 0 not drawn on the log scale' : '');
    var X = function (x) { return M.l + (x - xd[0]) / (xd[1] - xd[0]) * (W - M.l - M.r); };
    var Y = function (y) { return H - M.b - (y - lo) / (hi - lo) * (H - M.t - M.b); };
    var root = svg('svg', {
      viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': c.title + ' by step' + (log ? ' (log scale)' : ''),
      'data-chart': c.id, 'data-scale': log ? 'log' : 'linear'
    });
    var axis = svg('g', { class: 'axis' });
    var yt = log ? logTicks(lo, hi) : ticks(lo, hi, 5);
    // Log ticks are 1, 2 and 5 times powers of ten: one significant digit says all of them (1e+7, 0.02, 500).
    var labels = log ? yt.map(function (t) {
      var v = +Math.pow(10, t).toPrecision(1);
      return v >= 1e4 || v < 1e-2 ? v.toExponential(0) : String(v);
    }) : tickLabels(yt);
    yt.forEach(function (t, i) {
      axis.appendChild(svg('line', { class: 'grid', x1: M.l, x2: W - M.r, y1: Y(t), y2: Y(t) }));
      axis.appendChild(svg('text', { x: M.l - 6, y: Y(t) + 4, 'text-anchor': 'end', class: 'ytick' }, labels[i]));
    });
    ticks(xd[0], xd[1], 6).forEach(function (t) {
      if (t !== Math.round(t)) return;
      axis.appendChild(svg('text', { x: X(t), y: H - 8, 'text-anchor': 'middle' }, String(t)));
    });
    root.appendChild(axis);
    if (c.threshold && T(c.threshold.value) !== null) {
      var ty = Y(T(c.threshold.value));
      root.appendChild(svg('line', { class: 'threshold', x1: M.l, x2: W - M.r, y1: ty, y2: ty }));
      root.appendChild(svg('text', { class: 'threshold-label', x: W - M.r, y: ty - 4, 'text-anchor': 'end' }, c.threshold.label));
    }
    // The trainer's checkpoints: a dashed vertical line each, its name on hover.
    (D.checkpoints || []).forEach(function (k) {
      if (k.step < xd[0] || k.step > xd[1]) return;
      var line = svg('line', { class: 'checkpoint', x1: X(k.step), x2: X(k.step), y1: M.t, y2: H - M.b, 'data-step': k.step });
      line.appendChild(svg('title', {}, k.name + ' (step ' + k.step + '): ' + k.path));
      root.appendChild(line);
    });
    c.series.forEach(function (s) {
      var color = D.runs[s.run].color;
      if (s.sd && !log) {
        var up = [], down = [];
        for (var i = 0; i < s.s.length; i++) {
          var v = s.v[i], sd = s.sd[i];
          if (v === null || sd === null || !isFinite(v) || !isFinite(sd)) continue;
          up.push(X(s.s[i]).toFixed(1) + ',' + Y(v + sd).toFixed(1));
          down.push(X(s.s[i]).toFixed(1) + ',' + Y(v - sd).toFixed(1));
        }
        if (up.length > 1) root.appendChild(svg('polygon', { class: 'band', fill: color, points: up.concat(down.reverse()).join(' ') }));
      }
      var d = '', pen = false, bad = svg('g', { class: 'nonfinite-points' });
      for (var j = 0; j < s.s.length; j++) {
        var y = T(s.v[j]);
        if (y === null) { if (s.v[j] !== null) pen = false; continue; }
        var x = X(s.s[j]);
        if (!isFinite(y)) {
          pen = false;
          var top = !(y < 0), py = top ? M.t : H - M.b;
          var tri = svg('path', { class: 'nonfinite', d: 'M' + (x - 4) + ' ' + (py + (top ? -2 : 2)) + 'l4 ' + (top ? 7 : -7) + 'l4 ' + (top ? -7 : 7) + 'z' });
          tri.appendChild(svg('title', {}, 'step ' + s.s[j] + ': ' + fmt(s.v[j])));
          bad.appendChild(tri);
          continue;
        }
        d += (pen ? 'L' : 'M') + x.toFixed(1) + ' ' + Y(y).toFixed(1);
        pen = true;
      }
      root.appendChild(svg('path', { class: 'line', stroke: color, d: d || 'M0 0', 'data-run': D.runs[s.run].id }));
      root.appendChild(bad);
    });
    var marks = svg('g', { class: 'markers' });
    alerts.forEach(function (a) {
      if (chartOf(a) !== c.id) return;
      var series = c.series.filter(function (s) { return s.run === a.run; })[0];
      var v = series ? T(valueAt(series, a.step)) : null;
      var y = v !== null && isFinite(v) ? Y(v) : M.t;
      var label = alertLabel(a);
      var m = svg('circle', {
        class: 'marker sev-' + a.severity, cx: X(a.step).toFixed(1), cy: y.toFixed(1), r: 5.5, tabindex: '0',
        'data-detector': a.detector, 'data-step': a.step, 'data-tip': label, 'aria-label': label
      });
      if (D.runs.length > 1) m.setAttribute('stroke', D.runs[a.run].color);
      m.appendChild(svg('title', {}, label));
      marks.appendChild(m);
    });
    root.appendChild(marks);
    plot.appendChild(root);
  }

  function drawTimeline(xd) {
    var fig = document.getElementById('timeline');
    if (!fig) return;
    var plot = fig.querySelector('.plot');
    plot.textContent = '';
    var shown = alerts.filter(function (a) { return a.delivered !== false; });
    var multi = D.runs.length > 1;
    var keyOf = function (a) { return multi ? D.runs[a.run].id + ' \u2014 ' + a.detector : a.detector; };
    // A single run's page has a lane for every detector from the start, so a live alert of a new kind marks its
    // lane instead of adding a row (and moving everything below); a comparison has one row per run and detector.
    var lanes = multi ? [] : (D.lanes || []);
    var rows = lanes.slice();
    var extra = [];
    shown.forEach(function (a) { var k = keyOf(a); if (rows.indexOf(k) < 0 && extra.indexOf(k) < 0) extra.push(k); });
    rows = rows.concat(extra.sort());
    if (!rows.length) { plot.appendChild(html('div', { class: 'empty' }, 'No alerts triggered.')); return; }
    var fired = {};
    shown.forEach(function (a) { fired[keyOf(a)] = true; });
    // Drawn at the plot's pixel width (not scaled like the metric charts): rows stay 24 px whatever the screen.
    var TW = Math.max(320, Math.round(plot.clientWidth || W));
    var L = Math.min(220, Math.round(TW * 0.35)), rowH = 24, h = M.t + M.b + rows.length * rowH;
    var X = function (x) { return L + (x - xd[0]) / (xd[1] - xd[0]) * (TW - L - M.r); };
    var root = svg('svg', { viewBox: '0 0 ' + TW + ' ' + h, width: TW, height: h, role: 'img', 'aria-label': 'Alert timeline' });
    plot.style.height = h + 'px';
    var axis = svg('g', { class: 'axis' });
    rows.forEach(function (k, i) {
      var y = M.t + i * rowH + rowH / 2;
      axis.appendChild(svg('line', { class: 'grid', x1: L, x2: TW - M.r, y1: y, y2: y }));
      var max = Math.floor(L / 6.5);
      var t = svg('text', { x: L - 6, y: y + 4, 'text-anchor': 'end', class: fired[k] ? 'lane fired' : 'lane quiet', 'data-lane': k },
        k.length > max ? k.slice(0, max - 1) + '\u2026' : k);
      t.appendChild(svg('title', {}, k));
      axis.appendChild(t);
    });
    ticks(xd[0], xd[1], 6).forEach(function (t) {
      if (t !== Math.round(t)) return;
      axis.appendChild(svg('text', { x: X(t), y: h - 8, 'text-anchor': 'middle' }, String(t)));
    });
    if (!shown.length) {
      axis.appendChild(svg('text', { class: 'none', x: L + (TW - L - M.r) / 2, y: M.t + 12, 'text-anchor': 'middle' }, 'No alerts triggered.'));
    }
    root.appendChild(axis);
    var marks = svg('g', { class: 'markers' });
    shown.forEach(function (a) {
      var label = alertLabel(a);
      var m = svg('circle', {
        class: 'marker sev-' + a.severity, cx: X(a.step).toFixed(1), cy: M.t + rows.indexOf(keyOf(a)) * rowH + rowH / 2,
        r: 5.5, tabindex: '0', 'data-detector': a.detector, 'data-step': a.step, 'data-tip': label, 'aria-label': label
      });
      if (multi) { m.style.fill = D.runs[a.run].color; }  // CSSOM: allowed by the CSP, unlike a style attribute
      m.appendChild(svg('title', {}, label));
      marks.appendChild(m);
    });
    root.appendChild(marks);
    plot.appendChild(root);
  }

  function drawAll() {
    var xd = xDomain();
    D.charts.forEach(function (c) { drawChart(c, xd); });
    drawTimeline(xd);
  }
  document.querySelectorAll('input.log-toggle').forEach(function (box) {
    var id = box.getAttribute('data-chart');
    logScale[id] = box.checked;
    box.addEventListener('change', function () {
      logScale[id] = box.checked;
      if (charts[id]) drawChart(charts[id], xDomain());
    });
  });
  drawAll();
  var resizeTimer = null, lastWidth = window.innerWidth;
  window.addEventListener('resize', function () {
    if (window.innerWidth === lastWidth) return;
    lastWidth = window.innerWidth;
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { drawTimeline(xDomain()); }, 150);
  });

  // ---- keyboard tooltip for markers (hover already shows the <title>) ------------------------
  var tip = html('div', { id: 'tip', role: 'tooltip', hidden: '' });
  document.body.appendChild(tip);
  document.addEventListener('focusin', function (e) {
    var t = e.target, text = t && t.getAttribute && t.getAttribute('data-tip');
    if (!text) { tip.hidden = true; return; }
    var r = t.getBoundingClientRect();
    tip.textContent = text;
    tip.style.left = Math.max(4, Math.min(window.innerWidth - 370, r.left)) + 'px';
    tip.style.top = (r.bottom + 6) + 'px';
    tip.hidden = false;
  });
  document.addEventListener('focusout', function () { tip.hidden = true; });

  // ---- live updates ----------------------------------------------------------------------------
  if (!D.live || typeof EventSource === 'undefined') return;
  var cols = D.live.columns;
  var stdCol = cols.indexOf('reward_std');
  var counts = D.live.counts;

  function compact(s, keep) {
    var n = s.s.length, size = Math.ceil(n / TARGET), idx = {};
    for (var i = 0; i < n; i++) if (keep[s.s[i]]) idx[i] = true;
    for (var start = 0; start < n; start += size) {
      var end = Math.min(n, start + size), lo = -1, hi = -1, nf = -1;
      for (var k = start; k < end; k++) {
        var v = s.v[k];
        if (isFinite(v)) { if (lo < 0 || v < s.v[lo]) lo = k; if (hi < 0 || v > s.v[hi]) hi = k; } else if (nf < 0) nf = k;
      }
      [start, end - 1, lo, hi, nf].forEach(function (j) { if (j >= 0) idx[j] = true; });
    }
    var kept = Object.keys(idx).map(Number).sort(function (a, b) { return a - b; });
    s.s = kept.map(function (j) { return s.s[j]; });
    s.v = kept.map(function (j) { return s.v[j]; });
    if (s.sd) s.sd = kept.map(function (j) { return s.sd[j]; });
  }

  function addAlertRow(a) {
    var body = document.querySelector('#alerts-table tbody');
    if (!body) return;
    var tr = html('tr', { 'data-detector': a.detector, 'data-severity': a.severity, 'data-step': String(a.step), 'data-alert-id': String(a.id) });
    tr.appendChild(html('td', { class: 'num' }, String(a.step)));
    tr.appendChild(html('td', {}, a.detector));
    var sev = html('td', {});
    sev.appendChild(html('span', { class: 'badge sev-' + a.severity }, a.severity));
    tr.appendChild(sev);
    tr.appendChild(html('td', { class: 'msg' }, a.message));
    tr.appendChild(html('td', { class: 'msg' }, a.recommendation));
    tr.hidden = !alertMatches(tr);
    body.appendChild(tr);
    var empty = document.getElementById('alerts-empty');
    if (empty) empty.hidden = true;
  }

  function health() {
    if (counts.anyCritical) return 'critical';
    return counts.anyAlert ? 'warning' : 'healthy';
  }

  // The run's badge follows the liveness alerts and the steps: run_crashed marks it crashed, run_stalled stalled,
  // and a step arriving after either makes it open again (a crashed run that logs again was restarted).
  function setState(name) {
    var st = document.getElementById('run-state');
    if (!st || st.textContent === 'finished') return;
    st.textContent = name;
    st.className = 'badge ' + name;
    st.setAttribute('title', name === 'open' ? 'open: steps arrive within the run\u2019s stall limit' :
      name === 'crashed' ? 'the training process crashed (run_crashed) and sent no step since' :
      'open, but no step arrived within the run\u2019s stall limit (or a run_stalled alert is open)');
  }

  function apply(u) {
    var keepSteps = {};
    alerts.forEach(function (a) { keepSteps[a.step] = true; });
    (u.alerts || []).forEach(function (a) { keepSteps[a.step] = true; });
    u.rows.forEach(function (r) {
      var step = r[0];
      cols.forEach(function (id, i) {
        var v = num(r[i + 1]);
        if (v === null) return;
        var c = charts[id], s = c && c.series[0];
        if (!s) return;
        s.s.push(step); s.v.push(v);
        if (id === 'reward_mean') {
          var sd = stdCol >= 0 ? num(r[stdCol + 1]) : null;
          if (sd !== null && !s.sd) s.sd = s.v.slice(0, -1).map(function () { return null; });
          if (s.sd) s.sd.push(sd);
        }
        if (s.s.length > TARGET * 8) compact(s, keepSteps);
      });
    });
    if (u.rows.length) setState('open');
    (u.alerts || []).forEach(function (a) {
      a.run = 0;
      if (a.delivered && a.detector === 'run_crashed') setState('crashed');
      else if (a.delivered && a.detector === 'run_stalled') setState('stalled');
      counts.anyAlert = true;
      if (a.severity === 'critical') counts.anyCritical = true;
      if (!a.delivered) return;
      alerts.push(a);
      counts.alerts++;
      if (a.severity === 'critical') counts.critical++; else counts.warnings++;
      addAlertRow(a);
    });
    if (u.steps !== undefined) setText('tile-steps', String(u.steps));
    if (u.last_step !== undefined && u.last_step !== null) setText('tile-last-step', String(u.last_step));
    setText('tile-alerts', String(counts.alerts));
    setText('tile-critical', String(counts.critical));
    setText('tile-warnings', String(counts.warnings));
    var h = document.getElementById('tile-health');
    if (h) { h.textContent = health(); h.className = 'value health-' + health(); }
    if (filters) applyAlertFilters();
    drawAll();
    if (u.finished) {
      var st = document.getElementById('run-state');
      if (st && st.textContent !== 'crashed') { st.textContent = 'finished'; st.className = 'badge finished'; }
    }
  }

  var status = document.getElementById('live-status');
  var source = new EventSource(D.live.url);
  source.addEventListener('update', function (e) { apply(JSON.parse(e.data)); });
  source.addEventListener('open', function () { if (status) status.textContent = 'live'; });
  source.addEventListener('error', function () { if (status) status.textContent = 'reconnecting\u2026'; });
  source.addEventListener('finished', function () { if (status) status.textContent = 'run finished'; source.close(); });
})();
