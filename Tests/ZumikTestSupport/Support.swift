import ActionKit
