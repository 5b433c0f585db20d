// Every test file runs with the Node entry's defaults (models from @livestyle/models, Node backends),
// as a Node user of @livestyle/core gets them.
import '../../packages/core/src/node.js';
