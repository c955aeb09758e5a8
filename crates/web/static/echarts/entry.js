// Minimal ECharts bundle for crates/web. Built by ./build.sh into ../echarts.min.js.
// Only what our charts use is imported, so everything else is tree-shaken away.
// To add a chart type or component: import it here, add it to echarts.use([...]),
// rebuild, and update ../VENDORED.md.
import * as echarts from 'echarts/core';
import { BarChart, PieChart, LineChart } from 'echarts/charts';
import {
  GridComponent,
  TooltipComponent,
  LegendComponent,
  TitleComponent,
  DatasetComponent,
  AriaComponent,
} from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  PieChart,
  LineChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  TitleComponent,
  DatasetComponent,
  AriaComponent,
  SVGRenderer,
]);

// The core namespace: init, getInstanceByDom, dispose, use, graphic, ...
window.echarts = echarts;
