// The portal's only script: marks the page as able to run GOV.UK Frontend, starts its
// components, and draws each chart from the JSON the server put beside it. Pages work
// without it: every chart has a table.
document.body.classList.add('js-enabled', 'govuk-frontend-supported');

import { initAll } from '/static/govuk/govuk-frontend.min.js';
initAll();

function drawCharts() {
  if (typeof window.Plotly === 'undefined') return;
  for (const holder of document.querySelectorAll('[data-chart]')) {
    const source = document.getElementById(holder.dataset.chart);
    if (!source) continue;
    const figure = JSON.parse(source.textContent);
    holder.classList.add('carepool-chart--drawn');
    window.Plotly.newPlot(holder, figure.data, figure.layout, {
      responsive: true,
      displaylogo: false,
      modeBarButtonsToRemove: ['select2d', 'lasso2d'],
    }).then(() => {
      holder.on('plotly_click', (event) => {
        const point = event.points && event.points[0];
        const link = point && (point.customdata && point.customdata[0]);
        if (typeof link === 'string' && link.startsWith('/')) window.location.assign(link);
      });
    });
  }
}
drawCharts();
