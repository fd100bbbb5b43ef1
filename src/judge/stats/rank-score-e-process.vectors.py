import itertools, numpy as np
from scipy.stats import rankdata, norm
from scipy.integrate import quad
def expand(a, c):
    vals=[]; lab=[]
    for j,(x,y) in enumerate(zip(a,c)):
        vals += [j]*(x+y); lab += [0]*x+[1]*y
    return np.array(vals), np.array(lab)
def scores(vals, fam):
    u = rankdata(vals)/(len(vals)+1)
    z = norm.ppf(u)
    return z if fam=='location' else np.where(z>0, z*z, 0.0)
def stat(a, c, fam):
    vals, lab = expand(a, c); s = scores(vals, fam); N=len(s); nB=lab.sum(); nA=N-nB
    d = s[lab==1].sum() - nB*s.mean()
    v = nA*nB/(N*(N-1))*((s-s.mean())**2).sum()
    return d, v
for fam in ['location','upper-tail']:
    print(fam, 'ex', '%.10g %.10g' % stat([10,20,30],[5,20,40],fam))
# brute force permutation moments on a tiny batch
a=[1,2,0,1]; c=[0,1,2,1]
vals, lab = expand(a,c)
for fam in ['location','upper-tail']:
    s = scores(vals, fam); N=len(s); nB=lab.sum()
    ds=[s[list(idx)].sum()-nB*s.mean() for idx in itertools.combinations(range(N), nB)]
    print(fam, 'tiny', '%.10g %.10g %.10g' % (stat(a,c,fam)[0], np.mean(ds), np.var(ds)), stat(a,c,fam)[1])
# one-sided mixture by quadrature: d ~ N(theta, v), theta ~ half-normal(tau^2)
def lam_plus(d, v, tau2):
    f = lambda th: 2*norm.pdf(th, 0, np.sqrt(tau2))*np.exp(th*d/v - th*th/(2*v))
    return quad(f, 0, np.inf, limit=200)[0]
def tau2_of(planned, alpha):
    l=np.log(1/(2*alpha)); return planned*(2*l+np.log(1+2*l))
# e-process on batches: three batches
B=[([10,20,30,5],[5,20,40,9]),([12,25,20,3],[8,22,30,6]),([9,30,25,4],[10,18,33,8])]
for fam in ['location','upper-tail']:
    st=[stat(a,c,fam) for a,c in B]; D=sum(x[0] for x in st); V=sum(x[1] for x in st)
    nA=sum(sum(a) for a,_ in B); nB=sum(sum(c) for _,c in B); per=min(nA,nB)
    planned=V*max(1,1000/per); t2=tau2_of(planned,0.05)
    print(fam,'eproc D %.10g V %.10g tau2 %.10g E+ %.10g' % (D,V,t2,lam_plus(D,V,t2)))
# dispersion: residual chi-square over blocks
dv=[(3.0,10.0),(-2.0,12.0),(5.0,9.0),(0.5,11.0),(-4.0,10.0),(6.0,8.0),(1.0,10.0),(-1.5,12.0),(2.5,9.0),(3.5,11.0),(-3.0,10.0),(4.0,10.0)]
def disp(dv, minb=6):
    d=np.array([x[0] for x in dv]); v=np.array([x[1] for x in dv]); shift=d.sum()/v.sum(); worst=1.0; L=1
    while len(dv)//L >= minb:
        B=len(dv)//L; db=d[:B*L].reshape(B,L).sum(1); vb=v[:B*L].reshape(B,L).sum(1)
        chi=((db-vb*shift)**2/vb).sum(); df=B-1
        est=chi/max(1,df-np.sqrt(2*df)); print(' L',L,'chi %.10g est %.10g'%(chi,est)); worst=max(worst,est); L*=2
    return worst
print('disp %.10g' % disp(dv))
