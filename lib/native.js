'use strict'
// Loads the compiled core. MONGOOSE_DISTRIBUTED_LOCK_NATIVE may name another
// build of it (the test suite uses the debug build, which has test hooks).
const path = require('path')

const override = process.env.MONGOOSE_DISTRIBUTED_LOCK_NATIVE
module.exports = override ? require(path.resolve(override)) : require('../binding.js')
