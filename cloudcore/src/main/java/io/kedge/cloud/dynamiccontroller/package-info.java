/**
 * DynamicController: the cloud half of MetaServer. It executes the Applications edges send ({@code
 * metaserver/dynamiccontroller/null}, resource {@code null}) against the kube-apiserver and serves
 * their watches from cloudcore's shared informers.
 *
 * <h2>What an edge sends and gets back</h2>
 *
 * <p><b>Kedge edges</b> set the Application's {@code Kedge} field to the pod's original HTTP
 * request: {@code method}, {@code path}, {@code query} (raw), {@code accept}, {@code contentType},
 * {@code token} (the pod's bound ServiceAccount token, or empty), with the body bytes in {@code
 * ReqBody}. The request is replayed as it is. The reply ({@code
 * dynamiccontroller/resource/applicationResponse} on {@code ignore/Application/ignore}, {@code
 * parent_msg_id} = the request's {@code msg_id}) carries {@code Kedge.code} and {@code
 * Kedge.responseContentType} and, in {@code RespBody}, the apiserver's bytes unchanged; {@code
 * Status} is {@code Approved} for 2xx and {@code Rejected} otherwise, with {@code Error =
 * {"ErrStatus": Status}}. When the cloud itself refuses (bad input, identity, queue full) {@code
 * RespBody} is that Status as JSON with {@code application/json}. The token is never sent back.
 *
 * <p><b>KubeEdge edges</b> send {@code Key}/{@code Verb}/{@code Option}/{@code ReqBody}/{@code
 * Subresource} (get, list, watch, create, update, updatestatus, patch with a {@code PatchInfo},
 * delete, deletecollection; a raw path as {@code Key} for discovery GETs) and get KubeEdge's reply:
 * {@code Approved} with the JSON result in {@code RespBody} (list items with apiVersion/kind,
 * nothing for delete and watch), or {@code Rejected} with {@code Error}.
 *
 * <p><b>Watches</b>: a Kedge GET with {@code watch=true} (or {@code 1}, {@code True}, or the {@code
 * /watch/} path), or a KubeEdge {@code watch}, registers a listener under the Application's {@code
 * ID} (unique per watch; the same ID again replaces it) and is answered {@code Approved} (Kedge
 * code 200, no body) once every current matching object has been handed over as an {@code insert}.
 * Changes follow as ACK-required {@code insert}/{@code update}/{@code delete} messages (source
 * {@code dynamiccontroller}, group {@code resource}, resource {@code <ns|null>/<lowercase
 * kind>/<name>}, header {@code resourceversion}, content the object with apiVersion and kind); an
 * object that stops matching the selectors is a {@code delete}. KubeEdge edges always get the
 * initial state. A Kedge watch with a positive {@code resourceVersion} N <em>resumes</em> instead:
 * the apiserver's own events since N (a watch from N with the caller's rights) are delivered as
 * {@code insert}/{@code update}/{@code delete} in order, each version of an object after the edge
 * acknowledged the previous one, followed by the informer's changes after the informer's version V;
 * the answer (once the replay is acknowledged) carries {@code RespBody = {"resourceVersion": "V"}};
 * a version older than the apiserver's watch cache is answered 410 {@code Expired}. {@code
 * watchapp/sync} (content: the node's complete map id → Application) removes listeners not in the
 * map, adds the missing ones, replaces those that resume, and is answered on {@code watchapp/sync}
 * with the map of those that failed ({@code Rejected}) and of those that resumed ({@code Approved},
 * as above; only Kedge edges ask for it). A listener also ends when its pod is deleted, when RBAC
 * no longer lets the caller watch, or when its node stays disconnected longer than the grace period
 * (2 minutes): edges re-sync after reconnecting.
 *
 * <h2>Identity</h2>
 *
 * <p>{@code modules.dynamicController.identity}: {@code pod} (default) runs a request with the
 * forwarded pod token after a TokenReview and a check, on every request, that the token's pod
 * exists and is bound to the requesting node (the session's node); watches are authorized by a
 * SubjectAccessReview for that ServiceAccount. Requests without a token use {@code
 * tokenlessIdentity}: {@code node}, {@code deny}, or {@code cloudcore}. Unset (the default), it
 * depends on the edge: one that speaks KubeEdge's exchange never forwards tokens (it authorizes the
 * pod itself) and gets {@code cloudcore}, as on KubeEdge's cloud; a Kedge edge gets {@code node}.
 * {@code node} impersonates {@code system:node:<node>}; {@code cloudcore} uses cloudcore's own
 * ServiceAccount. Which identity a node's requests run as is logged once per node.
 *
 * <h2>Errors</h2>
 *
 * <p>400 bad input; 401 invalid token, token not bound to a pod, pod gone, or tokenless requests
 * denied; 403 the pod is bound to another node, a path the cloud does not relay (exec, attach,
 * port-forward, proxy), or the apiserver's own denial; 404 unknown path or type; 405 method or verb
 * not supported; 429 the node's queue is full ({@code details.retryAfterSeconds}); 503 the
 * apiserver cannot be reached, or the module is disabled; 504 no answer in time.
 */
package io.kedge.cloud.dynamiccontroller;
