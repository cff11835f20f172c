// Zoom of the page viewer: + and − change the picture's width; no inline script (strict CSP).
document.addEventListener("DOMContentLoaded", () => {
  for (const figure of document.querySelectorAll("[data-zoom]")) {
    const image = figure.querySelector("img");
    if (!image) continue;
    let scale = 1;
    const apply = () => { image.style.width = `${Math.round(scale * 100)}%`; };
    figure.querySelector("[data-zoom-in]").addEventListener("click", () => { scale = Math.min(scale * 1.25, 4); apply(); });
    figure.querySelector("[data-zoom-out]").addEventListener("click", () => { scale = Math.max(scale / 1.25, 0.25); apply(); });
  }
});
