/* 一店三查监管后台: the little script the pages need (no inline script anywhere: CSP script-src 'self'). */
(function () {
  "use strict";
  var COLOURS = { A: "#2e9d5b", B: "#e0a020", C: "#d64541", U: "#9aa5b1" };

  function onReady(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  // A list read on a phone is a stack of cards: each cell says which column it is.
  function labelCells(root) {
    root.querySelectorAll("table.list").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr, tfoot tr").forEach(function (tr) {
        Array.prototype.forEach.call(tr.children, function (td, i) {
          if (heads[i] && !td.hasAttribute("data-label") && !td.classList.contains("empty")) td.setAttribute("data-label", heads[i]);
        });
      });
    });
  }

  function bindCommon(root) {
    labelCells(root);
    root.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); });
    });
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
    });
    root.querySelectorAll("[data-print]").forEach(function (el) {
      el.addEventListener("click", function () { window.print(); });
    });
  }

  function showCard(url, panel) {
    panel.textContent = "正在加载…";
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { panel.innerHTML = html; })  // server-rendered, escaped by Jinja
      .catch(function () { panel.textContent = "店铺信息加载失败，请重试"; });
  }

  function startMap(el) {
    if (!window.L) { el.querySelector(".map-loading").textContent = "地图组件加载失败"; return; }
    var gcj = el.dataset.gcj02 === "true" && window.gcoord;
    var project = function (lat, lng) {
      if (!gcj) return [lat, lng];
      var p = gcoord.transform([lng, lat], gcoord.WGS84, gcoord.GCJ02);
      return [p[1], p[0]];
    };
    var map = L.map(el, { preferCanvas: true, zoomSnap: 0.25, attributionControl: !!el.dataset.tiles });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution, maxZoom: 19 }).addTo(map);
    }
    L.control.scale({ imperial: false }).addTo(map);
    map.setView([35.41, 116.59], 10);
    var renderer = L.canvas({ padding: 0.3 });
    var cardUrl = el.dataset.card, panel = document.getElementById("card");
    var get = function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
    };
    // The districts first (drawn under the shops, on the same canvas so both answer the pointer), then the shops.
    var areas = el.dataset.areas ? get(el.dataset.areas).catch(function () { return null; }) : Promise.resolve(null);
    areas.then(function (geo) {
      var drawn = geo && geo.features.length ? drawAreas(map, geo, project, renderer) : null;
      el.dataset.areasDrawn = String(drawn ? geo.features.length : 0);
      return get(el.dataset.points).then(function (data) {
        var loading = el.querySelector(".map-loading");
        if (loading) loading.remove();
        data.points.forEach(function (p) {
          var marker = L.circleMarker(project(p[1], p[2]), {
            renderer: renderer, radius: 4, weight: 1, color: "#ffffff", fillColor: COLOURS[p[3]], fillOpacity: 0.9
          });
          marker.on("click", function () { showCard(cardUrl.replace("/0/card", "/" + p[0] + "/card"), panel); });
          marker.addTo(map);
        });
        if (drawn) {
          map.fitBounds(drawn.getBounds(), { padding: [10, 10], animate: false });  // a district view fits its polygon
        } else if (data.bounds) {
          var sw = project(data.bounds[0], data.bounds[1]), ne = project(data.bounds[2], data.bounds[3]);
          map.fitBounds([sw, ne], { padding: [20, 20], maxZoom: 16, animate: false });
        }
        el.dataset.loaded = String(data.points.length);
        el.leafletMap = map;  // for the browser tests (and a curious desk): the map behind the element
      });
    }).catch(function () { el.dataset.loaded = "error"; el.insertAdjacentHTML("afterbegin", "<p class=\"map-loading\">店铺分布加载失败，请刷新重试</p>"); });
  }

  // Each district's outline with its name, and its figures on hover.
  function drawAreas(map, geo, project, renderer) {
    var layer = L.geoJSON(geo, {
      renderer: renderer,
      coordsToLatLng: function (c) { return L.latLng(project(c[1], c[0])); },
      style: function () { return { color: "#3d5a80", weight: 1.5, fillColor: "#98c1d9", fillOpacity: 0.08 }; },
      onEachFeature: function (feature, path) {
        var f = feature.properties;
        path.bindTooltip(f.name + "：在营 " + f.active + " 家 · A " + f.A + " · B " + f.B + " · C " + f.C +
                         " · 待认领 " + f.unclaimed, { sticky: true, className: "area-tip" });
        path.on("mouseover", function () { path.setStyle({ fillOpacity: 0.22 }); });
        path.on("mouseout", function () { path.setStyle({ fillOpacity: 0.08 }); });
        if (f.label) {
          L.tooltip({ permanent: true, direction: "center", className: "area-name", interactive: false })
            .setLatLng(project(f.label[0], f.label[1])).setContent(f.name).addTo(map);
        }
      }
    }).addTo(map);
    return layer;
  }

  onReady(function () {
    bindCommon(document);
    var map = document.getElementById("map");
    if (map) startMap(map);
    document.body.addEventListener("htmx:afterSwap", function (event) { bindCommon(event.target); });
  });
})();
