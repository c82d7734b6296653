import Testing

@Test func placeholderRLWatchTests() {}
