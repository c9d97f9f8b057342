// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The monitor wing and the shared server pieces: imports are internal unless written `public import`,
/// so a module's public surface names only what its callers need.
let layeredSwiftSettings: [SwiftSetting] =
    swiftSettings + [
        .enableUpcomingFeature("InternalImportsByDefault")
    ]

let package = Package(
    name: "zumik-ops",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "zumik-ops-agent", targets: ["ZumikOpsAgent"]),
        .executable(name: "zumik-monitor", targets: ["ZumikMonitor"]),
        .executable(name: "zumik-actions", targets: ["ZumikActions"]),
        .library(name: "ActionKit", targets: ["ActionKit"]),
        .library(name: "BundleLoading", targets: ["BundleLoading"]),
        .library(name: "AgentHost", targets: ["AgentHost"]),
        .library(name: "Probing", targets: ["Probing"]),
        .library(name: "Monitor", targets: ["Monitor"]),
        .library(name: "Remediation", targets: ["Remediation"]),
        .library(name: "ServerSupport", targets: ["ServerSupport"]),
        // Action bundles: loaded by the agent with dlopen, never linked into it.
        .library(name: "DockerActions", type: .dynamic, targets: ["DockerActions"]),
        .library(name: "NginxActions", type: .dynamic, targets: ["NginxActions"]),
        // The template for a third bundle (docs/adding-a-bundle.md); not part of the shipped allowlist.
        .library(name: "TemplateActions", type: .dynamic, targets: ["TemplateActions"]),
        // Test-only bundle with a deliberately wrong ABI version.
        .library(name: "WrongABIPlugin", type: .dynamic, targets: ["WrongABIPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // MARK: C shims

        /// The plugin boundary: the versioned C table every bundle exports.
        .target(name: "CActionABI", path: "Sources/CActionABI"),
        /// memfd + seals, posix_spawn helpers: things that need _GNU_SOURCE.
        .target(name: "CZumikSys", path: "Sources/CZumikSys"),
        /// Non-variadic wrappers over libcurl's variadic setopt/getinfo.
        .target(
            name: "CCurlShim",
            path: "Sources/CCurlShim",
            linkerSettings: [.linkedLibrary("curl")]
        ),

        // MARK: Libraries

        /// The plugin-side half of the contract: ABI constants, the table builder, output helpers.
        /// Small on purpose: it is linked into every bundle.
        .target(
            name: "ActionPluginKit",
            dependencies: ["CActionABI"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ActionKit",
            dependencies: [
                "ActionPluginKit",
                "CActionABI",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: layeredSwiftSettings
        ),
        /// The bundle loader: safe paths, signature and scope checks, sealed-memfd dlopen, the
        /// registry. No HTTP: `zumik-actions` links it without a server.
        .target(
            name: "BundleLoading",
            dependencies: [
                "ActionKit",
                "ActionPluginKit",
                "CActionABI",
                "CZumikSys",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: layeredSwiftSettings
        ),
        .target(
            name: "AgentHost",
            dependencies: [
                "ActionKit",
                "BundleLoading",
                "ServerSupport",
                "CActionABI",
                "CZumikSys",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: layeredSwiftSettings
        ),
        /// What both executables share: the log handler (logfmt/JSON, RFC 3339 timestamps) and
        /// the listen address (TCP and Unix socket forms).
        .target(
            name: "ServerSupport",
            dependencies: [
                .product(name: "Logging", package: "swift-log")
            ],
            swiftSettings: layeredSwiftSettings
        ),

        // MARK: The monitor wing: Probing → Monitor → Remediation, one way (docs/architecture.md)

        /// The libcurl engine, the one HTTP request/result type, the prober and the classifier.
        .target(
            name: "Probing",
            dependencies: ["CCurlShim"],
            swiftSettings: layeredSwiftSettings
        ),
        /// Config, debounce, the store behind `MonitorStorage`, alerts, the service loop, the control API.
        .target(
            name: "Monitor",
            dependencies: [
                "ActionKit",
                "Probing",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: layeredSwiftSettings
        ),
        /// The incident responder: leash, ladder, model loop, driver; agent and model clients; the journal.
        .target(
            name: "Remediation",
            dependencies: [
                "ActionKit",
                "ActionPluginKit",
                "Monitor",
                "Probing",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: layeredSwiftSettings
        ),

        // MARK: Executables

        .executableTarget(
            name: "ZumikOpsAgent",
            dependencies: [
                "AgentHost",
                "BundleLoading",
                "ServerSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ZumikMonitor",
            dependencies: [
                "ActionKit",
                "Monitor",
                "Probing",
                "Remediation",
                "ServerSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ZumikActions",
            dependencies: [
                "ActionKit",
                "ActionPluginKit",
                "BundleLoading",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Action bundles

        .target(
            name: "DockerActions",
            dependencies: ["ActionPluginKit", "CActionABI"],
            path: "Plugins/DockerActions",
            exclude: ["manifest.json"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NginxActions",
            dependencies: ["ActionPluginKit", "CActionABI"],
            path: "Plugins/NginxActions",
            exclude: ["manifest.json"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TemplateActions",
            dependencies: ["ActionPluginKit", "CActionABI"],
            path: "Plugins/TemplateActions",
            exclude: ["manifest.json"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WrongABIPlugin",
            dependencies: ["ActionPluginKit", "CActionABI"],
            path: "TestPlugins/WrongABIPlugin",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests

        /// Loopback stand-ins (Discord, OpenAI), temp dirs, process helpers, test signing keys.
        .target(
            name: "ZumikTestSupport",
            dependencies: [
                "ActionKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ZumikTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ActionKitTests",
            dependencies: ["ActionKit", "ActionPluginKit", "AgentHost", "BundleLoading", "ZumikTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AgentHostTests",
            dependencies: [
                "AgentHost", "BundleLoading", "ServerSupport", "ZumikTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MonitorTests",
            dependencies: [
                "Monitor", "Probing", "Remediation", "ServerSupport", "ZumikTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["ZumikTestSupport", "ActionKit"],
            swiftSettings: swiftSettings
        ),
    ]
)
