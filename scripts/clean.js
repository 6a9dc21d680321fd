// Empties a build folder first, so that nothing a moved or deleted source once compiled to stays in it.
require('node:fs').rmSync(require('node:path').join(__dirname, '..', process.argv[2]), { recursive: true, force: true });
