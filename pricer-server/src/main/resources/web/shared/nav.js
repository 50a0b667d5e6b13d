// The navigation bar of every page. Its links come from the server's modules (/api/nav), so an area added
// to the server (the hub's "Models", say) shows up here without touching the pages.
(function () {
  const style = document.createElement('link');
  style.rel = 'stylesheet';
  style.href = '/static/shared/nav.css';
  document.head.appendChild(style);
  const nav = document.createElement('nav');
  nav.className = 'pricer-nav';
  const brand = document.createElement('a');
  brand.className = 'brand';
  brand.href = '/';
  brand.textContent = 'Pricer';
  nav.appendChild(brand);
  document.body.prepend(nav);
  fetch('/api/nav').then(r => r.json()).then(links => {
    for (const link of links) {
      const a = document.createElement('a');
      a.href = link.href;
      a.textContent = link.label;
      if (location.pathname === link.href || location.pathname.startsWith(link.href + '/')) a.classList.add('active');
      nav.appendChild(a);
    }
  });
})();
