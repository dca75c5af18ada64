/* The street map: Leaflet (with leaflet.markercluster) over the SVG map of the same venues.
 *
 * The page draws its venues as a numbered SVG and a numbered list; this script, when it runs,
 * puts the same numbers on a tiled map (tile server from the settings), clusters them when
 * zoomed out and opens a popup with today's hours and free seats. The SVG leaves the screen
 * but not the page: screen readers keep it as the map's text, and without JavaScript it is the
 * map. Tiles that cannot load leave the markers on a plain ground, with a sentence saying so.
 * Everything shown comes from JSON data blocks and is written with textContent.
 */
(function () {
  "use strict";

  function text(tag, value, className) {
    var element = document.createElement(tag);
    element.textContent = value;
    if (className) element.className = className;
    return element;
  }

  function popup(marker) {
    var box = document.createElement("div");
    var link = text("a", marker.label);
    link.href = marker.href;
    box.appendChild(link);
    marker.lines.forEach(function (line) { box.appendChild(text("p", line)); });
    return box;
  }

  function start(container) {
    var markers = JSON.parse(document.getElementById(container.id + "-markers").textContent);
    var words = JSON.parse(document.getElementById(container.id + "-words").textContent);
    var figure = container.closest("figure") || container.parentNode;
    container.hidden = false;
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", words.map);
    figure.classList.add("has-tile-map");
    // The SVG's pins leave the tab order (the markers take their place) but stay readable.
    Array.prototype.forEach.call(figure.querySelectorAll("svg.venue-map a"), function (pin) {
      pin.setAttribute("tabindex", "-1");
    });

    var map = L.map(container, {
      zoomControl: false, attributionControl: false, scrollWheelZoom: false
    });
    // Leaflet's own credit without its inline flag, which the page's image rules would blow up.
    L.control.attribution({ prefix: '<a href="https://leafletjs.com">Leaflet</a>' }).addTo(map);
    L.control.zoom({ zoomInTitle: words.zoomIn, zoomOutTitle: words.zoomOut }).addTo(map);
    var tiles = L.tileLayer(container.dataset.tiles, {
      attribution: container.dataset.attribution,
      maxZoom: 19,
      subdomains: "abc"
    });
    var loaded = false;
    var warned = false;
    tiles.on("tileload", function () { loaded = true; });
    tiles.on("tileerror", function () {
      if (loaded || warned) return;
      warned = true;
      container.classList.add("tiles-unavailable");
      container.insertAdjacentElement("afterend", text("p", words.noTiles, "map-note"));
    });
    tiles.addTo(map);

    var group = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
    markers.forEach(function (data) {
      var marker = L.marker([data.lat, data.lon], {
        icon: L.divIcon({
          className: "tile-pin",
          html: "<span>" + Number(data.n) + "</span>",
          iconSize: [30, 30],
          iconAnchor: [15, 15],
          popupAnchor: [0, -14]
        }),
        title: data.label,
        keyboard: true,
        riseOnHover: true
      });
      marker.bindPopup(function () { return popup(data); });
      marker.on("add", function () {
        var element = marker.getElement();
        element.setAttribute("aria-label", data.label);
        element.setAttribute("data-number", String(data.n));
      });
      group.addLayer(marker);
    });
    // A cluster is a button too: it says how many venues it holds.
    map.on("layeradd", function (event) {
      var layer = event.layer;
      if (layer.getChildCount && layer.getElement && layer.getElement()) {
        layer.getElement().setAttribute(
          "aria-label", words.cluster.replace("%(num)s", String(layer.getChildCount()))
        );
      }
    });
    map.addLayer(group);
    map.fitBounds(group.getBounds(), { padding: [24, 24], maxZoom: 15 });
    window.tileMaps = window.tileMaps || {};
    window.tileMaps[container.id] = { map: map, markers: group };
  }

  if (typeof L === "undefined" || typeof L.markerClusterGroup !== "function") return;
  Array.prototype.forEach.call(document.querySelectorAll(".tile-map[data-tiles]"), start);
})();
