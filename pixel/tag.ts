// dist/d.js: configured by its own <script> tag. The server is the origin the script came from
// unless data-base says otherwise; the other data attributes are Config's fields (config.ts).
import { configure } from './config.js';
import { run } from './index.js';

configure();
run();
