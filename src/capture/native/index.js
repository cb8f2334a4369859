'use strict';
// Loads the compiled binding. Throws (with the loader's message) when the addon was not built.
module.exports = require('./build/Release/tapwatch_pcap.node');
