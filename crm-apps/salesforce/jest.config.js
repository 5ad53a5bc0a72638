const { jestConfig } = require('@salesforce/sfdx-lwc-jest/config');

// Offline: sfdx-lwc-jest stubs lightning/* and Lightning Data Service wire adapters.
module.exports = {
  ...jestConfig,
  modulePathIgnorePatterns: ['<rootDir>/.localdevserver'],
};
