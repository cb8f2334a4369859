// Bounded UDP sender with sendmmsg: udpsend2 DST PORT COUNT PPS(0=max) PAYLOAD MAXSEC SRC BATCH
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
  if(argc<9){fprintf(stderr,"usage: udpsend2 DST PORT COUNT PPS PAYLOAD MAXSEC SRC BATCH\n");return 2;}
  long count=atol(argv[3]);double pps=atof(argv[4]);int plen=atoi(argv[5]);double maxsec=atof(argv[6]);int batch=atoi(argv[8]);
  if(count>50000000||maxsec>120||plen>1400||plen<4||batch<1||batch>1024){fprintf(stderr,"limits\n");return 2;}
  int s=socket(AF_INET,SOCK_DGRAM,0);int sb=16<<20;setsockopt(s,SOL_SOCKET,SO_SNDBUF,&sb,sizeof sb);
  struct sockaddr_in a={0};a.sin_family=AF_INET;inet_pton(AF_INET,argv[7],&a.sin_addr);if(bind(s,(void*)&a,sizeof a)<0){perror("bind");return 1;}
  struct sockaddr_in d={0};d.sin_family=AF_INET;d.sin_port=htons(atoi(argv[2]));inet_pton(AF_INET,argv[1],&d.sin_addr);
  if(connect(s,(void*)&d,sizeof d)<0){perror("connect");return 1;}
  static char bufs[1024][1500];static struct mmsghdr m[1024];static struct iovec io[1024];
  for(int i=0;i<batch;i++){memset(bufs[i],'x',plen);io[i].iov_base=bufs[i];io[i].iov_len=plen;memset(&m[i],0,sizeof m[i]);m[i].msg_hdr.msg_iov=&io[i];m[i].msg_hdr.msg_iovlen=1;}
  double t0=now(),deadline=t0+maxsec;long sent=0,errs=0;
  while(sent<count){
    if(pps>0){double due=t0+sent/pps;while(now()<due){}}
    if(now()>deadline)break;
    int k=batch; if(count-sent<k)k=count-sent;
    for(int i=0;i<k;i++){unsigned q=htonl((unsigned)(sent+i));memcpy(bufs[i],&q,4);}
    int r=sendmmsg(s,m,k,0);
    if(r<0){errs++; if(errs>1000000)break; continue;}   // ECONNREFUSED from ICMP on connected socket: retry
    sent+=r;
  }
  double el=now()-t0;printf("sent=%ld errs=%ld elapsed=%.3f rate=%.0f\n",sent,errs,el,sent/el);return 0;
}
