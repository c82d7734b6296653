import Testing

@Test func placeholderRLWatchStoreTests() {}
