// Save PNG / Save SVG (issue 13): files made in the page and handed over as a download, with no
// network request (Blob + object URL). web/app/export.py decides what to save; this file only does
// what is slow or impossible through Pyodide's FFI: copying computed styles into a clone of a view,
// rasterising an SVG onto a canvas, and starting the download.
"use strict";
(function () {
  // Computed properties copied into the exported markup (enough to look like the page; not layout-only
  // or interaction properties). A value equal to SKIP[prop] is left out to keep the file small.
  const PROPS = ["display", "position", "left", "top", "right", "bottom", "width", "height", "min-width",
    "min-height", "box-sizing", "margin-top", "margin-right", "margin-bottom", "margin-left", "padding-top",
    "padding-right", "padding-bottom", "padding-left", "border-top", "border-right", "border-bottom",
    "border-left", "border-radius", "border-collapse", "border-spacing", "outline", "background-color",
    "background-image", "color", "font-family", "font-size", "font-weight", "font-style", "line-height",
    "text-align", "vertical-align", "white-space", "text-decoration-line", "letter-spacing",
    "font-variant-numeric", "flex-direction", "flex-wrap", "flex-grow", "flex-shrink", "flex-basis",
    "align-items", "align-self", "justify-content", "gap", "grid-template-columns", "grid-template-rows",
    "grid-column", "grid-row", "transform", "transform-origin", "opacity", "overflow-x", "overflow-y",
    "visibility", "z-index", "image-rendering", "fill", "fill-opacity", "stroke", "stroke-width",
    "stroke-dasharray", "stroke-opacity", "text-anchor", "dominant-baseline", "caption-side", "table-layout"];
  const SKIP = {"margin-top": "0px", "margin-right": "0px", "margin-bottom": "0px", "margin-left": "0px",
    "padding-top": "0px", "padding-right": "0px", "padding-bottom": "0px", "padding-left": "0px",
    "transform": "none", "opacity": "1", "z-index": "auto", "background-image": "none",
    "background-color": "rgba(0, 0, 0, 0)", "border-radius": "0px", "letter-spacing": "normal",
    "gap": "normal", "grid-template-columns": "none", "grid-template-rows": "none", "visibility": "visible",
    "flex-grow": "0", "flex-shrink": "1", "flex-basis": "auto", "white-space": "normal",
    "text-decoration-line": "none", "font-style": "normal", "font-variant-numeric": "normal",
    "image-rendering": "auto", "stroke": "none", "stroke-dasharray": "none", "stroke-opacity": "1",
    "fill-opacity": "1", "outline": "rgb(29, 39, 51) none 0px", "overflow-x": "visible",
    "overflow-y": "visible", "position": "static", "min-width": "auto", "min-height": "auto",
    "left": "auto", "top": "auto", "right": "auto", "bottom": "auto"};
  const NO_BORDER = /^0px none/;

  function copyStyle(src, dst) {
    const cs = getComputedStyle(src);
    const out = [];
    for (const p of PROPS) {
      const v = cs.getPropertyValue(p);
      if (!v || SKIP[p] === v || (p.startsWith("border-") && p !== "border-collapse" && p !== "border-spacing"
          && p !== "border-radius" && NO_BORDER.test(v))) continue;
      if (v.includes("url(")) continue;  // never an outside reference
      out.push(p + ":" + v);
    }
    dst.setAttribute("style", out.join(";"));
  }

  // A copy of `src` with computed styles inline; canvases become <img>s of their pixels; elements marked
  // data-export="skip" (the save buttons, the close button) and event attributes are left out.
  function cloneStyled(src) {
    if (src.nodeType === Node.TEXT_NODE) return document.createTextNode(src.nodeValue);
    if (src.nodeType !== Node.ELEMENT_NODE) return null;
    if (src.dataset && src.dataset.export === "skip") return null;
    let dst;
    if (src.tagName === "CANVAS") {
      dst = document.createElement("img");
      dst.setAttribute("src", src.toDataURL("image/png"));
      dst.setAttribute("alt", src.getAttribute("aria-label") || "");
    } else {
      dst = src.cloneNode(false);
      for (const a of Array.from(dst.attributes)) {
        const v = a.value.trim().toLowerCase();
        if (a.name.startsWith("on") || ((a.name === "href" || a.name === "src" || a.name === "xlink:href")
            && !v.startsWith("#") && !v.startsWith("data:"))) dst.removeAttribute(a.name);
      }
      if (src.tagName === "INPUT") dst.setAttribute("value", src.value);
    }
    copyStyle(src, dst);
    for (const child of src.childNodes) {
      const c = cloneStyled(child);
      if (c) dst.appendChild(c);
    }
    return dst;
  }

  // The view `root` as a self-contained SVG (its markup in a <foreignObject>, styles inline).
  function domSvg(root, title) {
    // a view still opening (a CSS entrance animation, a transition) is saved as it will look
    for (const a of root.getAnimations({subtree: true})) {
      try { if (a.effect && a.effect.getTiming().iterations !== Infinity) a.finish(); } catch (e) { /* keep it */ }
    }
    const width = Math.ceil(Math.max(root.scrollWidth, root.getBoundingClientRect().width));
    const height = Math.ceil(Math.max(root.scrollHeight, root.getBoundingClientRect().height));
    const clone = cloneStyled(root);
    clone.style.position = "static";
    clone.style.margin = "0";
    clone.style.transform = "none";
    clone.style.opacity = "1";
    clone.style.maxHeight = "none";
    clone.style.maxWidth = "none";
    clone.style.overflow = "visible";
    clone.style.width = width + "px";
    clone.style.height = height + "px";
    const body = new XMLSerializer().serializeToString(clone);
    const esc = (t) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}"><title>${esc(title || "cnn101")}</title>` +
      `<rect width="100%" height="100%" fill="#ffffff"/>` +
      `<foreignObject x="0" y="0" width="${width}" height="${height}">${body}</foreignObject></svg>`;
    return {svg: svg, width: width, height: height};
  }

  function download(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  function saveText(text, name, type) {
    download(new Blob([text], {type: type}), name);
  }

  // Rasterise `svg` (width × height px) at `scale` px per px, then put `patches` over it: [x, y, w, h,
  // offset] into `pixels` (RGBA bytes), the exact pixels of the neuron maps. A data: URL, not a blob:,
  // so that Chromium does not taint the canvas (it does for a blob: SVG with a <foreignObject>).
  async function savePng(svg, width, height, scale, name, patches, pixels, onError) {
    try {
      const img = new Image();
      img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      for (const [x, y, w, h, off] of patches || []) {
        ctx.putImageData(new ImageData(new Uint8ClampedArray(pixels.buffer, pixels.byteOffset + off, w * h * 4), w, h), x, y);
      }
      const blob = await new Promise((ok) => canvas.toBlob(ok, "image/png"));
      if (!blob) throw new Error("the browser could not make the PNG (the picture may be too large)");
      download(blob, name);
    } catch (e) {
      if (onError) onError(String(e && e.message ? e.message : e));
    }
  }

  window.cnn101Export = {domSvg: domSvg, saveText: saveText, savePng: savePng, download: download};
})();
