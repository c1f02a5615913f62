// Builds the precompiled header that every test reuses; holds no tests.
