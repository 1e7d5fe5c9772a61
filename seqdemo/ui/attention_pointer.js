// The pointing view of tab 5, run by gr.HTML's js_on_load (`element`, `props`, `watch` are Gradio's).
// props.value is the JSON of seqdemo.ui.views.attention.pointer_payload: tokens, and every layer's and
// head's weights as bytes. Hovering, focusing or tapping a query token draws its row; layer and head
// are chosen here, without asking the server. Every line and key carries its weight in data-weight;
// widths and shading are relative to the largest weight drawn.
const SVG = "http://www.w3.org/2000/svg";
const ROW = 17, WIDTH = 440, LEFT = 160, RIGHT = 280;

function make(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (parent) parent.appendChild(node);
  return node;
}

function short(token) {
  return token.length > 16 ? token.slice(0, 15) + "…" : token;
}

function draw() {
  const root = element.querySelector(".sd-pointer");
  if (!root) return;
  root.replaceChildren();
  let data = null;
  try {
    data = props.value ? JSON.parse(props.value) : null;
  } catch (err) {
    data = null;
  }
  if (!data) {
    root.textContent = "Compute attention to point at its tokens here.";
    return;
  }
  const n = data.tokens.length, heads = data.heads;
  const bytes = Uint8Array.from(atob(data.weights), (c) => c.charCodeAt(0));
  const weight = (layer, head, q, k) => bytes[((layer * heads + head) * n + q) * n + k] / data.steps;
  const isGlobal = (i) => !!(data.global && data.global[i]);

  const controls = document.createElement("div");
  controls.className = "sd-pointer-controls";
  const layerSelect = document.createElement("select");
  layerSelect.setAttribute("aria-label", "Layer");
  layerSelect.className = "sd-pointer-layer";
  for (let l = 0; l < data.layers; l++) layerSelect.add(new Option(`layer ${l + 1}`, String(l)));
  layerSelect.value = String(data.layer);
  const headSelect = document.createElement("select");
  headSelect.setAttribute("aria-label", "Head");
  headSelect.className = "sd-pointer-head";
  headSelect.add(new Option("mean over heads", "-1"));
  headSelect.add(new Option("all heads, in their colours", "all"));
  for (let h = 0; h < heads; h++) headSelect.add(new Option(`head ${h + 1}`, String(h)));
  headSelect.value = String(data.head);
  const said = document.createElement("span");
  said.className = "sd-pointer-said";
  controls.append(layerSelect, headSelect, said);
  root.appendChild(controls);

  const frame = document.createElement("div");
  frame.className = "sd-pointer-frame";
  root.appendChild(frame);
  const svg = make("svg", { viewBox: `0 0 ${WIDTH} ${(n + 1) * ROW}`, width: WIDTH, class: "sd-pointer-svg" }, frame);
  make("text", { x: LEFT, y: ROW - 4, class: "sd-pointer-head-label", "text-anchor": "end" }, svg).textContent =
    "queries";
  make("text", { x: RIGHT, y: ROW - 4, class: "sd-pointer-head-label" }, svg).textContent = "keys";
  const lines = make("g", { class: "sd-pointer-lines" }, svg);
  const kinds = (i) =>
    [data.real[i] ? "" : "pad", data.special[i] ? "special" : "", isGlobal(i) ? "global" : ""].filter(Boolean);

  const queries = [], keys = [];
  for (let i = 0; i < n; i++) {
    const y = (i + 1.5) * ROW;
    const position = data.start + i;
    const query = make("g", { class: ["sd-pointer-query", ...kinds(i)].join(" "), tabindex: "0", "data-query": i }, svg);
    make("rect", { x: 4, y: y - ROW / 2 + 1, width: LEFT - 2, height: ROW - 2, rx: 3 }, query);
    make("text", { x: LEFT - 4, y: y + 4, "text-anchor": "end" }, query).textContent = `${short(data.tokens[i])} ${position}`;
    const key = make("g", { class: ["sd-pointer-key", ...kinds(i)].join(" "), "data-key": i }, svg);
    const shade = make("rect", { x: RIGHT - 2, y: y - ROW / 2 + 1, width: WIDTH - RIGHT - 2, height: ROW - 2, rx: 3 }, key);
    make("text", { x: RIGHT + 2, y: y + 4 }, key).textContent = `${position} ${short(data.tokens[i])}`;
    const value = make("text", { x: WIDTH - 6, y: y + 4, "text-anchor": "end", class: "sd-pointer-value" }, key);
    queries.push(query);
    keys.push({ group: key, shade, value });
  }

  // Longformer: a key outside the query's band, where neither is global, was never computed.
  const computed = (layer, q, k) => {
    if (!data.window) return true;
    return Math.abs(q - k) <= data.window[layer] / 2 || isGlobal(q) || isGlobal(k);
  };
  let selected = null, pinned = false;

  function show(q) {
    selected = q;
    lines.replaceChildren();
    const layer = Number(layerSelect.value), choice = headSelect.value;
    const drawn = choice === "all" ? [...Array(heads).keys()] : choice === "-1" ? [-1] : [Number(choice)];
    queries.forEach((node, i) => node.classList.toggle("chosen", i === q));
    const y0 = (q + 1.5) * ROW;
    const at = (h, k) =>
      h === -1 ? [...Array(heads).keys()].reduce((sum, g) => sum + weight(layer, g, q, k), 0) / heads : weight(layer, h, q, k);
    // Lines and shading are scaled to the largest weight drawn, so a nearly even row still shows its ranking.
    let largest = 0;
    for (const h of drawn) for (let k = 0; k < n; k++) largest = Math.max(largest, at(h, k));
    keys.forEach(({ group, shade, value }, k) => {
      const row = drawn.map((h) => at(h, k));
      const shown = choice === "all" ? Math.max(...row) : row[0];
      group.classList.toggle("outside", !computed(layer, q, k));
      group.setAttribute("data-weight", shown.toFixed(4));
      shade.setAttribute("fill-opacity", largest > 0 ? (0.6 * shown / largest).toFixed(3) : "0");
      value.textContent = choice === "all" || shown === 0 ? "" : shown.toFixed(3);
      row.forEach((w, index) => {
        if (w <= 0) return;
        const h = drawn[index];
        // With every head drawn, each head ends at its own height within the key's row, so their colours show.
        const fan = choice === "all" ? ((h + 0.5) / heads - 0.5) * (ROW - 4) : 0;
        const line = make("line", {
          x1: LEFT + 2, y1: y0, x2: RIGHT - 4, y2: (k + 1.5) * ROW + fan,
          "stroke-width": ((choice === "all" ? 0.3 : 0.5) + (choice === "all" ? 2.5 : 5.5) * w / largest).toFixed(2),
          "stroke-opacity": (0.15 + 0.75 * w / largest).toFixed(3),
          "data-key": k, "data-head": h, "data-weight": w.toFixed(4),
          class: h === -1 || choice !== "all" ? "sd-pointer-line" : "sd-pointer-line by-head",
        }, lines);
        if (choice === "all") line.setAttribute("stroke", data.head_colors[h]);
      });
    });
    const where = choice === "all" ? "every head" : choice === "-1" ? "mean over heads" : `head ${Number(choice) + 1}`;
    said.textContent = `query ${data.start + q} «${data.tokens[q]}» · layer ${layer + 1}, ${where}` + (pinned ? " (pinned: tap again to unpin)" : "");
  }

  queries.forEach((node, q) => {
    node.addEventListener("mouseenter", () => { if (!pinned) show(q); });
    node.addEventListener("focus", () => { if (!pinned) show(q); });
    node.addEventListener("click", () => { pinned = !(pinned && selected === q); show(q); });
  });
  layerSelect.addEventListener("change", () => show(selected ?? 0));
  headSelect.addEventListener("change", () => show(selected ?? 0));
  show(data.real.indexOf(1) >= 0 ? Math.min(n - 1, Math.max(0, data.real.indexOf(1))) : 0);
}

draw();
watch("value", draw);
