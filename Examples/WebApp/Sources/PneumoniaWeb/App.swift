import Foundation
import Hummingbird

/// Settings of the web app besides the checkpoint.
public struct WebAppConfiguration: Sendable {
    /// The address to listen on (`127.0.0.1` serves this machine only).
    public var host: String
    /// The TCP port (0 picks a free one).
    public var port: Int
    /// Uploads larger than this many bytes are refused with 413.
    public var maxUploadBytes: Int

    /// Settings with the command line's defaults: loopback, port 8080, 10 MB uploads.
    public init(host: String = "127.0.0.1", port: Int = 8080, maxUploadBytes: Int = 10 * 1024 * 1024) {
        self.host = host
        self.port = port
        self.maxUploadBytes = maxUploadBytes
    }
}

/// The web app's routes:
///
/// - `GET /` (and `/index.html`, `/app.js`, `/style.css`): the page, served from this module's resources;
/// - `GET /api/health`: ``HealthStatus`` as JSON;
/// - `POST /api/predict` with the raw bytes of a JPEG or PNG as the body: ``Prediction`` as JSON;
///   400 for an empty, non-image or corrupt body, 413 for a body over `maxUploadBytes`.
///
/// Every error, 404 for unknown routes included, is JSON: `{"error": {"message": "..."}}`.
public func buildRouter(service: PneumoniaService, maxUploadBytes: Int) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: JSONErrorMiddleware())
    for asset in PageAssets.all {
        for path in asset.routes {
            router.get(RouterPath(path)) { _, _ in
                Response(status: .ok, headers: [.contentType: asset.contentType, .cacheControl: "no-cache"],
                         body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
            }
        }
    }
    router.get("/api/health") { _, _ in service.health }
    router.post("/api/predict") { request, _ -> Prediction in
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxUploadBytes {
            throw tooLarge(maxUploadBytes)
        }
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: maxUploadBytes) } catch let error as HTTPResponseError
            where error.status == .contentTooLarge
        {
            throw tooLarge(maxUploadBytes)
        }
        guard body.readableBytes > 0 else {
            throw HTTPError(.badRequest, message: "empty upload: send the bytes of a JPEG or PNG image as the request body")
        }
        do {
            return try await service.predict(imageBytes: Data(body.readableBytesView))
        } catch let error as InvalidImageError {
            throw HTTPError(.badRequest, message: error.description)
        }
    }
    return router
}

/// The 413 answer.
private func tooLarge(_ limit: Int) -> HTTPError {
    HTTPError(.contentTooLarge, message: "upload over the limit of \(limit) bytes")
}

/// The application: ``buildRouter(service:maxUploadBytes:)`` served at `configuration`'s address.
public func buildApplication(service: PneumoniaService, configuration: WebAppConfiguration) -> some ApplicationProtocol {
    Application(
        router: buildRouter(service: service, maxUploadBytes: configuration.maxUploadBytes),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "pneumonia-web")
    )
}

/// Gives every error a JSON body: Hummingbird's body-less errors (404 for an unknown route, 405)
/// get their reason phrase as the message; other errors become a 500 without internals.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.body != nil {
            throw error
        } catch let error as HTTPResponseError {
            let detail = error.status == .notFound ? ": no route \(request.method) \(request.uri.path)" : ""
            throw HTTPError(error.status, message: error.status.reasonPhrase.lowercased() + detail)
        } catch {
            context.logger.error("request failed: \(error)")
            throw HTTPError(.internalServerError, message: "internal error (details in the server's log)")
        }
    }
}

/// The page's files (HTML, CSS, JS), read once from the module's resources.
struct PageAssets: Sendable {
    /// The URL paths that serve this file.
    let routes: [String]
    /// The `Content-Type` header.
    let contentType: String
    /// The file's bytes.
    let bytes: [UInt8]

    /// Every asset of the page.
    static let all: [PageAssets] = {
        let files: [(name: String, type: String, routes: [String])] = [
            ("index.html", "text/html; charset=utf-8", ["/", "/index.html"]),
            ("app.js", "text/javascript; charset=utf-8", ["/app.js"]),
            ("style.css", "text/css; charset=utf-8", ["/style.css"]),
        ]
        return files.map { file in
            guard let url = Bundle.module.url(forResource: file.name, withExtension: nil, subdirectory: "Page"),
                  let data = try? Data(contentsOf: url)
            else { fatalError("pneumonia-web: the page resource \(file.name) is missing from the bundle") }
            return PageAssets(routes: file.routes, contentType: file.type, bytes: [UInt8](data))
        }
    }()
}

/// Answered as JSON.
extension Prediction: ResponseEncodable {}
/// Answered as JSON.
extension HealthStatus: ResponseEncodable {}
