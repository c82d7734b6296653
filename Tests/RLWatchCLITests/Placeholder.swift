import Testing

@Test func placeholderRLWatchCLITests() {}
