// The console's own script: progressive enhancement only (every form works without it).
"use strict";
