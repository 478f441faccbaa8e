import Testing
@testable import KeelCore
