package io.conea.benchmarks;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletConnection;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.Part;
import java.io.BufferedReader;
import java.security.Principal;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * An in-memory HTTP request as a servlet container hands it to filters: what instrumentation reads
 * (method, URI, headers, addresses, attributes) is real and costs no more than a field read or a
 * small map lookup; everything else throws, so a filter that reaches it shows up at once.
 */
final class FakeServletRequest implements HttpServletRequest {

  private final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
  private final Map<String, Object> attributes = new HashMap<>();
  private String method = "GET";
  private String uri = "/";

  FakeServletRequest() {
    headers.put("Host", "localhost:8080");
    headers.put("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) benchmark");
    headers.put("Accept", "application/json");
    headers.put("X-User-Id", "user_123");
    headers.put("X-Organization-Id", "org_456");
  }

  /** Makes the request the next one of a keep-alive connection: new line, no attributes. */
  void next(String method, String uri) {
    this.method = method;
    this.uri = uri;
    attributes.clear();
  }

  @Override
  public String getMethod() {
    return method;
  }

  @Override
  public String getRequestURI() {
    return uri;
  }

  @Override
  public StringBuffer getRequestURL() {
    return new StringBuffer("http://localhost:8080").append(uri);
  }

  @Override
  public String getQueryString() {
    return null;
  }

  @Override
  public String getContextPath() {
    return "";
  }

  @Override
  public String getServletPath() {
    return uri;
  }

  @Override
  public String getPathInfo() {
    return null;
  }

  @Override
  public String getPathTranslated() {
    return null;
  }

  @Override
  public String getHeader(String name) {
    return headers.get(name);
  }

  @Override
  public Enumeration<String> getHeaders(String name) {
    String value = headers.get(name);
    return value == null ? Collections.emptyEnumeration() : Collections.enumeration(List.of(value));
  }

  @Override
  public Enumeration<String> getHeaderNames() {
    return Collections.enumeration(headers.keySet());
  }

  @Override
  public long getDateHeader(String name) {
    return -1;
  }

  @Override
  public int getIntHeader(String name) {
    String value = headers.get(name);
    return value == null ? -1 : Integer.parseInt(value);
  }

  @Override
  public Object getAttribute(String name) {
    return attributes.get(name);
  }

  @Override
  public Enumeration<String> getAttributeNames() {
    return Collections.enumeration(attributes.keySet());
  }

  @Override
  public void setAttribute(String name, Object value) {
    if (value == null) {
      attributes.remove(name);
    } else {
      attributes.put(name, value);
    }
  }

  @Override
  public void removeAttribute(String name) {
    attributes.remove(name);
  }

  @Override
  public String getProtocol() {
    return "HTTP/1.1";
  }

  @Override
  public String getScheme() {
    return "http";
  }

  @Override
  public String getServerName() {
    return "localhost";
  }

  @Override
  public int getServerPort() {
    return 8080;
  }

  @Override
  public String getRemoteAddr() {
    return "127.0.0.1";
  }

  @Override
  public String getRemoteHost() {
    return "127.0.0.1";
  }

  @Override
  public int getRemotePort() {
    return 53124;
  }

  @Override
  public String getLocalName() {
    return "localhost";
  }

  @Override
  public String getLocalAddr() {
    return "127.0.0.1";
  }

  @Override
  public int getLocalPort() {
    return 8080;
  }

  @Override
  public boolean isSecure() {
    return false;
  }

  @Override
  public boolean isAsyncStarted() {
    return false;
  }

  @Override
  public boolean isAsyncSupported() {
    return false;
  }

  @Override
  public DispatcherType getDispatcherType() {
    return DispatcherType.REQUEST;
  }

  @Override
  public String getCharacterEncoding() {
    return null;
  }

  @Override
  public void setCharacterEncoding(String encoding) {}

  @Override
  public int getContentLength() {
    return 0;
  }

  @Override
  public long getContentLengthLong() {
    return 0;
  }

  @Override
  public String getContentType() {
    return null;
  }

  @Override
  public Locale getLocale() {
    return Locale.ROOT;
  }

  @Override
  public Enumeration<Locale> getLocales() {
    return Collections.enumeration(List.of(Locale.ROOT));
  }

  @Override
  public String getParameter(String name) {
    return null;
  }

  @Override
  public Enumeration<String> getParameterNames() {
    return Collections.emptyEnumeration();
  }

  @Override
  public String[] getParameterValues(String name) {
    return null;
  }

  @Override
  public Map<String, String[]> getParameterMap() {
    return Collections.emptyMap();
  }

  @Override
  public String getAuthType() {
    return null;
  }

  @Override
  public Cookie[] getCookies() {
    return null;
  }

  @Override
  public String getRemoteUser() {
    return null;
  }

  @Override
  public boolean isUserInRole(String role) {
    return false;
  }

  @Override
  public Principal getUserPrincipal() {
    return null;
  }

  @Override
  public String getRequestedSessionId() {
    return null;
  }

  @Override
  public HttpSession getSession(boolean create) {
    return create ? unsupported("sessions") : null;
  }

  @Override
  public HttpSession getSession() {
    return unsupported("sessions");
  }

  @Override
  public String changeSessionId() {
    return unsupported("sessions");
  }

  @Override
  public boolean isRequestedSessionIdValid() {
    return false;
  }

  @Override
  public boolean isRequestedSessionIdFromCookie() {
    return false;
  }

  @Override
  public boolean isRequestedSessionIdFromURL() {
    return false;
  }

  @Override
  public boolean authenticate(HttpServletResponse response) {
    return unsupported("authentication");
  }

  @Override
  public void login(String username, String password) {
    unsupported("authentication");
  }

  @Override
  public void logout() {
    unsupported("authentication");
  }

  @Override
  public Collection<Part> getParts() {
    return unsupported("multipart bodies");
  }

  @Override
  public Part getPart(String name) {
    return unsupported("multipart bodies");
  }

  @Override
  public <T extends HttpUpgradeHandler> T upgrade(Class<T> handlerClass) {
    return unsupported("protocol upgrades");
  }

  @Override
  public ServletInputStream getInputStream() {
    return unsupported("request bodies");
  }

  @Override
  public BufferedReader getReader() {
    return unsupported("request bodies");
  }

  @Override
  public RequestDispatcher getRequestDispatcher(String path) {
    return unsupported("dispatching");
  }

  @Override
  public ServletContext getServletContext() {
    return unsupported("a servlet context");
  }

  @Override
  public AsyncContext startAsync() {
    return unsupported("asynchronous processing");
  }

  @Override
  public AsyncContext startAsync(ServletRequest request, ServletResponse response) {
    return unsupported("asynchronous processing");
  }

  @Override
  public AsyncContext getAsyncContext() {
    return unsupported("asynchronous processing");
  }

  @Override
  public String getRequestId() {
    return "1";
  }

  @Override
  public String getProtocolRequestId() {
    return "";
  }

  @Override
  public ServletConnection getServletConnection() {
    return unsupported("connection details");
  }

  private static <T> T unsupported(String what) {
    throw new UnsupportedOperationException("The benchmark's request has no " + what);
  }
}
