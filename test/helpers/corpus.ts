/** Where the public capture corpus with its tshark oracles is (../shared/pcaps, or TAPWATCH_CORPUS): the scorecard's lookup, one for all tests. */
export { findCorpus } from '../../src/score/scorecard.js';
